program Args;
{$mode objfpc}{$H+}
var
  i: Integer;
  arg: String;
begin
  for i := 1 to ParamCount do
  begin
    arg := ParamStr(i);
    WriteLn(Length(arg), ':', arg);
  end;
end.
