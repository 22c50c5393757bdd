use std::io::Write;
use std::os::unix::ffi::OsStrExt;

fn main() {
    let mut out = std::io::stdout().lock();
    for arg in std::env::args_os().skip(1) {
        let bytes = arg.as_bytes();
        write!(out, "{}:", bytes.len()).unwrap();
        out.write_all(bytes).unwrap();
        out.write_all(b"\n").unwrap();
    }
}
