//! Notes whether crosscheck itself is compiled without optimisation, cargo's default for a
//! dependency under `cargo test`: every schedule runs crosscheck's and shuttle's code, so such a
//! build runs checks about 15 times slower, and a long check says how to fix it (see
//! `checker/speed.rs`). `OPT_LEVEL` is the level of this package's build, overrides included.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(crosscheck_unoptimized)");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo:rustc-cfg=crosscheck_unoptimized");
    }
}
