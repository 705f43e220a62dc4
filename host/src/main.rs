//! The `ravelin` command: parse the CLI, start tracing, and hand over to the
//! library (`app` for the proxy, the runtime's `tool` and `ravelin-plugin-testing`
//! for plugin authors, `registry` for sharing plugins through an OCI registry).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ravelin::registry;
use ravelin_plugin_testing::{Harness, parse_request, parse_response};
use ravelin_runtime::tool;

/// jemalloc keeps allocations of different sizes on different pages, so
/// the buffers hyper frees when an idle connection is parked leave whole
/// pages free, and its background thread gives them back to the kernel
/// (`.cargo/config.toml` sets the decay). glibc's heap interleaves them
/// with the parked connections' small live state and keeps them resident.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    /// Run the proxy (reloads the file on change and on SIGHUP; drains on SIGTERM).
    Run {
        /// The TOML configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Validate a configuration file, plugins and certificates included, without starting.
    /// Exits non-zero with every problem and its line.
    Check {
        /// The TOML configuration file.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Write and try plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a plugin project that depends on the SDK and builds with one command.
    New {
        /// The plugin's name (lowercase letters, digits, `-`, `_`).
        name: String,
        /// The plugin's language: `rust` (a crate on ravelin-sdk, built
        /// with cargo), `python` (a module on sdk/python, built with
        /// componentize-py), `c` (wit-bindgen, clang and wasm-tools) or
        /// `js` (componentize-js).
        #[arg(long, default_value = "rust", value_name = "LANG")]
        lang: tool::Lang,
        /// Where to create it.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Depend on the SDK at this path instead of the registry version.
        #[arg(long, value_name = "DIR")]
        sdk_path: Option<PathBuf>,
    },
    /// Run a plugin offline through every hook, for one or more requests in
    /// turn (they share one kv store), and print what it did and logged.
    Test {
        /// The plugin component (.wasm).
        file: PathBuf,
        /// A request: "METHOD TARGET", then "Name: value" lines, a blank line
        /// and a body; `@FILE` reads it from a file. Repeat for a sequence.
        #[arg(long, value_name = "TEXT|@FILE", required = true)]
        request: Vec<String>,
        /// The upstream's answer: "STATUS", then "Name: value" lines, a blank
        /// line and a body; `@FILE` reads it from a file.
        #[arg(
            long,
            value_name = "TEXT|@FILE",
            default_value = "200\ncontent-type: text/plain\n\nok"
        )]
        response: String,
        /// The plugin's configuration, as JSON.
        #[arg(long, value_name = "JSON", default_value = "null")]
        config: String,
    },
    /// Push a plugin component to an OCI registry as a Wasm artifact.
    Push {
        /// The component (.wasm).
        file: PathBuf,
        /// Where: host[:port]/repository:tag.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Pull a plugin from an OCI registry, checked against its digests.
    Pull {
        /// host[:port]/repository:tag or host[:port]/repository@sha256:DIGEST.
        reference: String,
        /// Where to write it (default: REPOSITORY-NAME.wasm).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Show a plugin artifact: digest, size, WIT world, imports, exports, annotations.
    Inspect {
        /// host[:port]/repository:tag or host[:port]/repository@sha256:DIGEST.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Sign a plugin in a registry with an ed25519 key (PKCS#8 PEM, as
    /// `openssl genpkey -algorithm ed25519` writes it).
    Sign {
        /// host[:port]/repository:tag or host[:port]/repository@sha256:DIGEST.
        reference: String,
        /// The private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List the versions in a repository, semver-sorted.
    Ls {
        /// host[:port]/repository.
        repository: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// How to reach and log in to a registry. Without --username, credentials
/// come from RAVELIN_REGISTRY_USERNAME/RAVELIN_REGISTRY_PASSWORD, then from
/// ~/.docker/config.json.
#[derive(clap::Args)]
struct RegistryArgs {
    /// The user to log in as (the password is read from standard input).
    #[arg(long, requires = "password_stdin")]
    username: Option<String>,
    /// Read the password from standard input.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Allow plain HTTP to a registry that is not on this machine.
    #[arg(long)]
    insecure: bool,
}

impl RegistryArgs {
    fn options(self) -> Result<registry::client::Options, String> {
        let password = match self.password_stdin {
            true => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            }
            false => None,
        };
        Ok(registry::client::Options {
            insecure: self.insecure,
            credentials: registry::auth::Explicit {
                username: self.username,
                password,
            },
        })
    }
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Run { config } => return run(config),
        Command::Check { config } => block_on(ravelin::app::check(&config)).map(|warnings| {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            ravelin::say!("{}: configuration is valid", config.display());
        }),
        Command::Plugin(command) => plugin_command(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// The `plugin` commands: authoring (`new`, `test`) and the registry
/// (`push`, `pull`, `inspect`, `sign`, `ls`).
fn plugin_command(command: PluginCommand) -> Result<(), String> {
    match command {
        PluginCommand::New {
            name,
            lang,
            dir,
            sdk_path,
        } => new_plugin(&name, lang, &dir, sdk_path),
        PluginCommand::Test {
            file,
            request,
            response,
            config,
        } => test_plugin(&file, &request, &response, &config),
        PluginCommand::Push {
            file,
            reference,
            registry,
        } => {
            let options = registry.options()?;
            block_on(registry::cli::push(&file, &reference, &options))
        }
        PluginCommand::Pull {
            reference,
            output,
            registry,
        } => {
            let options = registry.options()?;
            block_on(registry::cli::pull(&reference, output.as_deref(), &options))
        }
        PluginCommand::Inspect {
            reference,
            registry,
        } => {
            let options = registry.options()?;
            block_on(registry::cli::inspect(&reference, &options))
        }
        PluginCommand::Sign {
            reference,
            key,
            registry,
        } => {
            let options = registry.options()?;
            block_on(registry::cli::sign(&reference, &key, &options))
        }
        PluginCommand::Ls {
            repository,
            registry,
        } => {
            let options = registry.options()?;
            block_on(registry::cli::ls(&repository, &options))
        }
    }
}

fn block_on<T>(future: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(future)
}

fn new_plugin(
    name: &str,
    lang: tool::Lang,
    dir: &Path,
    sdk_path: Option<PathBuf>,
) -> Result<(), String> {
    // From a checkout, depend on its SDK; otherwise on the released one.
    let checkout_sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    let sdk = match sdk_path {
        Some(path) => {
            tool::SdkDependency::Path(std::path::absolute(path).map_err(|e| e.to_string())?)
        }
        None if checkout_sdk.join("Cargo.toml").exists() => {
            tool::SdkDependency::Path(checkout_sdk.canonicalize().map_err(|e| e.to_string())?)
        }
        None => tool::SdkDependency::Version(env!("CARGO_PKG_VERSION").to_string()),
    };
    let created = tool::scaffold(dir, name, lang, &sdk)?;
    let (build, test) = match lang {
        tool::Lang::Rust => ("cargo build --release --target wasm32-wasip2", "cargo test"),
        tool::Lang::Python => ("./build.sh", "./test.sh"),
        tool::Lang::C | tool::Lang::Js => (
            "./build.sh",
            "ravelin plugin test target/NAME.wasm --request 'GET /'",
        ),
    };
    let test = test.replace("NAME", name);
    ravelin::say!(
        "created {dir}\nbuild it with: cd {dir} && {build}\ntest it with:  cd {dir} && {test}",
        dir = created.display()
    );
    Ok(())
}

/// A `--request` or `--response` argument: the text (with `\n` escapes),
/// or `@FILE`.
fn sample(arg: &str) -> Result<String, String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}")),
        None => Ok(arg.replace("\\n", "\n")),
    }
}

fn test_plugin(
    file: &Path,
    requests: &[String],
    response: &str,
    config: &str,
) -> Result<(), String> {
    let requests = requests
        .iter()
        .map(|r| parse_request(&sample(r)?))
        .collect::<Result<Vec<_>, _>>()?;
    let upstream = parse_response(&sample(response)?)?;
    let config: serde_json::Value =
        serde_json::from_str(config).map_err(|e| format!("--config is not JSON: {e}"))?;
    // The runtime's own messages; the plugin's log lines are in each report
    // (the two modules that write them to tracing are silenced).
    let filter = "info,ravelin_runtime::imports=off,ravelin_runtime::wasi=off";
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stdout)
        .without_time()
        .init();
    block_on(async {
        let mut harness = Harness::load(file, config)
            .await
            .map_err(|e| e.to_string())?;
        for (i, request) in requests.into_iter().enumerate() {
            let outcome = harness.send(request, upstream.clone()).await;
            ravelin::say!("--- request {}\n{outcome}", i + 1);
        }
        Ok(())
    })
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
    // Thread-per-core: this thread is worker 0, on a current-thread runtime
    // (`app::run` starts the others). One worker needs no work stealing
    // either: no cross-thread wake-ups (measured in docs/benchmarks.md).
    let workers = settings.workers();
    let per_core = settings.scheduler == ravelin::config::Scheduler::ThreadPerCore;
    let mut builder = if per_core || workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
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
    // rustls warns once per connection whose client sends an IP address as
    // SNI (curl, wrk and h2load all do): routine at a proxy, so kept quiet.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = &settings.log_level;
        tracing_subscriber::EnvFilter::new(format!("{level},rustls::msgs::handshake=error"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    if settings.access_log == ravelin::config::AccessLog::Json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}
