# BYTES:ARG for each argument.
for (arg in commandArgs(trailingOnly = TRUE)) {
  cat(nchar(arg, type = "bytes"), ":", arg, "\n", sep = "")
}
