//! The `ravelin` command: parse the CLI, start tracing, load the config and
//! hand over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ravelin",
    version,
    about = "A reverse proxy programmable with sandboxed WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy with a configuration file (reloaded on change and on SIGHUP).
    Run {
        /// The TOML configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Validate a configuration file without starting; exits non-zero with every problem and its line.
    Check {
        /// The TOML configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check { config } => check(&config),
        Command::Run { config } => run(config),
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    let loaded = ravelin::config::Config::load(path);
    // Certificates and keys are loaded too, so a missing file fails here.
    let built = loaded.and_then(|(config, text)| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let _guard = runtime.enter();
        ravelin::snapshot::Snapshot::build(config, None, &path.display().to_string())
            .map_err(|e| e.with_lines(&text))
    });
    match built {
        Ok(_) => {
            println!("{}: configuration is valid", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: PathBuf) -> ExitCode {
    let settings = match ravelin::config::Config::load(&path) {
        Ok((config, _)) => config.server,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(&settings);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if settings.worker_threads > 0 {
        builder.worker_threads(settings.worker_threads);
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ravelin::app::run(path)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("ravelin: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(settings: &ravelin::config::Server) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    if settings.access_log == ravelin::config::AccessLog::Json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}
