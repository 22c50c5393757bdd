#lang racket/base
;; BYTES:ARG for each argument, BYTES its length in UTF-8.
(for ([arg (current-command-line-arguments)])
  (printf "~a:~a\n" (bytes-length (string->bytes/utf-8 arg)) arg))
