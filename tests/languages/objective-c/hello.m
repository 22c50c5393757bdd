#import <Foundation/Foundation.h>

int main(void)
{
	NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
	NSString *greeting = [NSString stringWithFormat:@"Hello, %@!", @"World"];
	printf("%s\n", [greeting UTF8String]);
	[pool drain];
	return 0;
}
