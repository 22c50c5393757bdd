using System;

class Program
{
    static void Main()
    {
        string[] words = Console.In.ReadToEnd().Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
        long a = long.Parse(words[0]);
        long b = long.Parse(words[1]);
        Console.WriteLine(a + b);
    }
}
