// sqlx::migrate! embeds the migrations at compile time; rebuild when any of them changes
// (a new file included), not only when this crate's sources do.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
