;; BYTES:ARG for each argument, BYTES its length in UTF-8.
(dolist (arg (rest sb-ext:*posix-argv*))
  (format t "~d:~a~%"
          (length (sb-ext:string-to-octets arg :external-format :utf-8))
          arg))
