*> Prints each argument as LEN:ARG, LEN its length in bytes. ACCEPT ...
*> FROM ARGUMENT-VALUE pads an argument with spaces, which loses its
*> trailing ones: the arguments are read as they are from the C argv
*> that CBL_GC_HOSTED gives, each measured with strlen.
IDENTIFICATION DIVISION.
PROGRAM-ID. args.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 arg-count   BINARY-LONG.
01 arg-vector  USAGE POINTER.
01 arg-index   BINARY-LONG.
01 arg-length  BINARY-LONG.
01 shown       PIC Z(9)9.
LINKAGE SECTION.
01 arg-pointer USAGE POINTER.
*> One argument: Linux allows at most 128 KiB (MAX_ARG_STRLEN).
01 arg-text    PIC X(131072).
PROCEDURE DIVISION.
    CALL "CBL_GC_HOSTED" USING arg-count "argc"
    CALL "CBL_GC_HOSTED" USING arg-vector "argv"
    PERFORM VARYING arg-index FROM 1 BY 1 UNTIL arg-index >= arg-count
        SET arg-vector UP BY LENGTH OF arg-vector
        SET ADDRESS OF arg-pointer TO arg-vector
        SET ADDRESS OF arg-text TO arg-pointer
        CALL "strlen" USING BY VALUE arg-pointer RETURNING arg-length
        MOVE arg-length TO shown
        IF arg-length = 0
            DISPLAY FUNCTION TRIM(shown) ":"
        ELSE
            DISPLAY FUNCTION TRIM(shown) ":" arg-text(1:arg-length)
        END-IF
    END-PERFORM
    STOP RUN.
