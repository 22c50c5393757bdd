:- initialization(main, main).

main :-
    write('Hello, World!'), nl.
