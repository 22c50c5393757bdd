-- # is the length of a string in bytes.
for _, a in ipairs(arg) do
  io.write(#a, ":", a, "\n")
end
