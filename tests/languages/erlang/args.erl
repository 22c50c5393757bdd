main(Args) ->
    lists:foreach(fun(Arg) ->
                          Bytes = unicode:characters_to_binary(Arg),
                          ok = file:write(standard_io, [integer_to_list(byte_size(Bytes)), $:, Bytes, $\n])
                  end, Args).
