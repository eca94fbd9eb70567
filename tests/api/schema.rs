//! `schema.graphql` is the SDL the code generates; this fails when they drift.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let file = std::fs::read_to_string(path).unwrap_or_default();
    let code = orderhub::graphql::sdl();
    assert!(
        file == code,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}
