(* BYTES:ARG for each argument: OCaml strings are bytes. *)
let () =
  Array.iteri
    (fun i arg -> if i > 0 then Printf.printf "%d:%s\n" (String.length arg) arg)
    Sys.argv
