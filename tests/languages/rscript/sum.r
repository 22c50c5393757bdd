x <- scan(file("stdin"), what = integer(), n = 2, quiet = TRUE)
cat(x[1] + x[2], "\n", sep = "")
