# $stdin.gets, not gets: with arguments, gets reads the files they name.
a, b = $stdin.gets.split.map(&:to_i)
puts a + b
