import sys

a, b = map(int, sys.stdin.read().split()[:2])
print(a + b)
