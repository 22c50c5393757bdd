; Prints each argument as LEN:ARG and a newline, LEN its length in bytes.
; At _start the stack holds argc, then argv[0..argc-1], then a null.
	global	_start

	section	.bss
digits:	resb	24

	section	.text
_start:
	mov	r12, [rsp]		; argc
	lea	r13, [rsp + 16]		; &argv[1]
	mov	r14, 1			; i
.next:
	cmp	r14, r12
	jae	.exit
	mov	r15, [r13]		; argv[i]
	mov	rdi, r15		; its length: up to the null byte
	xor	ecx, ecx
.length:
	cmp	byte [rdi + rcx], 0
	je	.counted
	inc	rcx
	jmp	.length
.counted:
	mov	rbx, rcx		; the length, kept across the writes
	mov	rax, rcx		; in decimal, backwards, then ':'
	lea	rsi, [rel digits + 24]
	dec	rsi
	mov	byte [rsi], ':'
	mov	ecx, 10
.digit:
	xor	edx, edx
	div	rcx
	add	dl, '0'
	dec	rsi
	mov	[rsi], dl
	test	rax, rax
	jnz	.digit
	lea	rdx, [rel digits + 24]
	sub	rdx, rsi
	call	write
	mov	rsi, r15		; the argument itself
	mov	rdx, rbx
	call	write
	lea	rsi, [rel digits]	; and a newline
	mov	byte [rsi], 10
	mov	edx, 1
	call	write
	add	r13, 8
	inc	r14
	jmp	.next
.exit:
	mov	eax, 60			; exit(0)
	xor	edi, edi
	syscall

; write: rdx bytes at rsi to stdout, all of them (write(2) again after a
; short write); exit(1) on an error.
write:
	test	rdx, rdx
	jz	.done
	mov	eax, 1			; write(2) keeps rsi and rdx
	mov	edi, 1
	syscall
	test	rax, rax
	js	.fail
	add	rsi, rax
	sub	rdx, rax
	jmp	write
.done:
	ret
.fail:
	mov	eax, 60
	mov	edi, 1
	syscall
