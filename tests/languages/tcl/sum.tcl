scan [gets stdin] "%d %d" a b
puts [expr {$a + $b}]
