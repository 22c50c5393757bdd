foreach arg $argv {
    puts "[string length [encoding convertto utf-8 $arg]]:$arg"
}
