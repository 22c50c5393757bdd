; Reads two integers from stdin and prints their sum: read(2) until
; end of input, parse two signed decimal numbers, add, write(2) the sum.
	global	_start

	section	.bss
input:	resb	4096
output:	resb	32

	section	.text
_start:
	xor	r12, r12		; bytes read so far
.read:
	xor	eax, eax		; read(0, input + r12, size - r12)
	xor	edi, edi
	lea	rsi, [rel input]
	add	rsi, r12
	mov	edx, 4096
	sub	rdx, r12
	jz	.parse
	syscall
	test	rax, rax
	js	fail
	jz	.parse
	add	r12, rax
	jmp	.read
.parse:
	lea	rsi, [rel input]	; rsi: next byte, rdi: end of input
	lea	rdi, [rsi + r12]
	call	number
	mov	rbx, rax
	call	number
	add	rax, rbx

	lea	rsi, [rel output + 32]	; digits backwards from the end
	mov	byte [rsi - 1], 10
	dec	rsi
	mov	r8, rax			; the sign
	test	rax, rax
	jns	.digits
	neg	rax
.digits:
	xor	edx, edx
	mov	ecx, 10
	div	rcx
	add	dl, '0'
	dec	rsi
	mov	[rsi], dl
	test	rax, rax
	jnz	.digits
	test	r8, r8
	jns	.write
	dec	rsi
	mov	byte [rsi], '-'
.write:
	mov	eax, 1			; write(1, rsi, end - rsi)
	lea	rdx, [rel output + 32]
	sub	rdx, rsi
	mov	edi, 1
	syscall
	mov	eax, 60			; exit(0)
	xor	edi, edi
	syscall

; number: the signed decimal at rsi (after blanks) in rax; rsi moves past it.
; No digit before the end of input: exit(1).
number:
	xor	eax, eax
	xor	r9d, r9d		; 1 when negative
.skip:
	cmp	rsi, rdi
	jae	fail
	movzx	ecx, byte [rsi]
	cmp	cl, '-'
	je	.minus
	sub	cl, '0'
	cmp	cl, 9
	jbe	.digit
	inc	rsi
	jmp	.skip
.minus:
	mov	r9d, 1
	inc	rsi
	cmp	rsi, rdi
	jae	fail
	movzx	ecx, byte [rsi]
	sub	cl, '0'
	cmp	cl, 9
	ja	fail
.digit:
	imul	rax, rax, 10
	add	rax, rcx
	inc	rsi
	cmp	rsi, rdi
	jae	.done
	movzx	ecx, byte [rsi]
	sub	cl, '0'
	cmp	cl, 9
	jbe	.digit
.done:
	test	r9d, r9d
	jz	.positive
	neg	rax
.positive:
	ret

fail:
	mov	eax, 60			; exit(1)
	mov	edi, 1
	syscall
