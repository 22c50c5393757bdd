% BYTES:ARG for each argument: Octave's strings are bytes.
args = argv();
for i = 1:numel(args)
  printf("%d:%s\n", numel(args{i}), args{i});
end
