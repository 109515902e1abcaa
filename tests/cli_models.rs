use clap::CommandFactory;
#[test]
fn cli_definitions_are_consistent() {
    tokenscope::cli::Cli::command().debug_assert();
}
