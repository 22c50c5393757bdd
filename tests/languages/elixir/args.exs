for arg <- System.argv() do
  IO.write([Integer.to_string(byte_size(arg)), ":", arg, "\n"])
end
