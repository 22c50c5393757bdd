ARGV.each { |arg| print "#{arg.bytesize}:#{arg}\n" }
