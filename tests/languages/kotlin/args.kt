fun main(args: Array<String>) {
    val out = java.io.ByteArrayOutputStream()
    for (arg in args) {
        val bytes = arg.toByteArray(Charsets.UTF_8)
        out.write("${bytes.size}:".toByteArray(Charsets.UTF_8))
        out.write(bytes)
        out.write('\n'.toInt())
    }
    System.out.write(out.toByteArray())
    System.out.flush()
}
