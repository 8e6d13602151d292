fn main() {
    if let Some(code) = oxtask::native::dispatch_from_argv() {
        std::process::exit(code);
    }
    std::process::exit(oxtask::app::main(std::env::args_os().collect()));
}
