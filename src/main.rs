fn main() {
    if let Some(code) = oxtask::native::dispatch_from_argv() {
        std::process::exit(code);
    }
    std::process::exit(0);
}
