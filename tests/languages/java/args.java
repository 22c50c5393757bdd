import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

public class Main {
	public static void main(String[] args) throws Exception {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (String arg : args) {
			byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
			out.write((bytes.length + ":").getBytes(StandardCharsets.UTF_8));
			out.write(bytes);
			out.write('\n');
		}
		System.out.write(out.toByteArray());
		System.out.flush();
	}
}
