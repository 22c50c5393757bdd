import java.io.ByteArrayOutputStream
import java.nio.charset.StandardCharsets.UTF_8

object Main {
  def main(args: Array[String]): Unit = {
    val out = new ByteArrayOutputStream()
    for (arg <- args) {
      val bytes = arg.getBytes(UTF_8)
      out.write(s"${bytes.length}:".getBytes(UTF_8))
      out.write(bytes)
      out.write('\n')
    }
    System.out.write(out.toByteArray)
    System.out.flush()
  }
}
