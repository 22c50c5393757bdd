IDENTIFICATION DIVISION.
PROGRAM-ID. sum.
DATA DIVISION.
WORKING-STORAGE SECTION.
01 input-line PIC X(200).
01 a-text     PIC X(40).
01 b-text     PIC X(40).
01 total      PIC S9(18).
01 shown      PIC -(18)9.
PROCEDURE DIVISION.
    ACCEPT input-line
    UNSTRING FUNCTION TRIM(input-line) DELIMITED BY ALL SPACE
        INTO a-text b-text
    COMPUTE total = FUNCTION NUMVAL(a-text) + FUNCTION NUMVAL(b-text)
    MOVE total TO shown
    DISPLAY FUNCTION TRIM(shown)
    STOP RUN.
