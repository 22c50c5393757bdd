:- initialization(main, main).
:- use_module(library(utf8)).

main :-
    current_prolog_flag(argv, Args),
    forall(member(Arg, Args), show(Arg)).

% BYTES:ARG, BYTES the length of ARG in UTF-8.
show(Arg) :-
    atom_codes(Arg, Codes),
    phrase(utf8_codes(Codes), Bytes),
    length(Bytes, N),
    format("~d:~w~n", [N, Arg]).
