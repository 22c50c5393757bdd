#import <Foundation/Foundation.h>

int main(void)
{
	NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
	NSData *input = [[NSFileHandle fileHandleWithStandardInput] readDataToEndOfFile];
	NSString *text = [[[NSString alloc] initWithData:input encoding:NSUTF8StringEncoding] autorelease];
	NSScanner *scanner = [NSScanner scannerWithString:text];
	long long a, b;
	if (![scanner scanLongLong:&a] || ![scanner scanLongLong:&b])
		return 1;
	printf("%lld\n", a + b);
	[pool drain];
	return 0;
}
