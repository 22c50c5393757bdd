using System;
using System.IO;
using System.Text;

class Program
{
    static void Main(string[] args)
    {
        Stream stdout = Console.OpenStandardOutput();
        foreach (string arg in args)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(arg);
            byte[] head = Encoding.UTF8.GetBytes(bytes.Length + ":");
            stdout.Write(head, 0, head.Length);
            stdout.Write(bytes, 0, bytes.Length);
            stdout.WriteByte((byte)'\n');
        }
        stdout.Flush();
    }
}
