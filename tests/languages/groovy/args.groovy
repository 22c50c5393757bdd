def out = new ByteArrayOutputStream()
for (arg in args) {
    byte[] bytes = arg.getBytes("UTF-8")
    out.write("${bytes.length}:".getBytes("UTF-8"))
    out.write(bytes)
    out.write(10)
}
System.out.write(out.toByteArray())
System.out.flush()
