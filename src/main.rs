//! `orderhub` — serve the API (default), apply migrations, or print the schema.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use orderhub::{Application, Config};
use tracing_subscriber::{EnvFilter, fmt};

/// mimalloc instead of glibc's malloc: a request allocates hundreds of small objects (one
/// per field, row and value), and glibc's arenas spent a quarter of the read path's CPU on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "One GraphQL API over Daoway, Dada, WeChat instant delivery and 58 Daojia"
)]
struct Cli {
    /// TOML configuration file (default: ./orderhub.toml when present).
    #[arg(long, short, global = true, env = "ORDERHUB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL), as `schema.graphql` holds it.
    Schema,
    /// Make, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the URLs to register in the platforms' consoles (Dada's message URL carries a
    /// token derived from dada.app_secret: treat the output as a secret).
    CallbackUrls,
    /// Write synthetic order history (orders with their timelines) into the configured
    /// database, for analytics and its benchmarks: use a database of its own.
    Seed {
        /// How many orders.
        #[arg(long, default_value_t = 200_000)]
        orders: u64,
        /// Over how many days, ending a day ago (every timeline has ended).
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// The random seed (the same seed writes the same history).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seed even though the database holds orders that were not seeded.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a key and print its secret (shown this once; only a hash is kept).
    Create {
        /// What the key is for, e.g. `mini-program backend`.
        #[arg(long)]
        name: String,
        /// Comma-separated: catalog:read, orders:read, orders:write, delivery:dispatch,
        /// inbound:work, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Restrict the key to these shops (comma-separated; our shop ids as GraphQL shows
        /// them, or row numbers). Left out: every shop.
        #[arg(long, value_delimiter = ',')]
        shops: Option<Vec<String>>,
    },
    /// List every key (never a secret).
    List,
    /// Revoke a key (its id as `keys list` shows it) at once.
    Revoke { id: String },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Schema) = cli.command {
        print!("{}", orderhub::graphql::sdl());
        return std::process::ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_tracing(&config.server.log_format);
    let result = match cli.command {
        Some(Command::Migrate) => orderhub::db::connect(&config.database, Default::default())
            .await
            .map(|_| tracing::info!("migrations applied"))
            .map_err(|e| e.to_string()),
        Some(Command::Keys(command)) => keys::run(&config, command).await,
        Some(Command::CallbackUrls) => callback_urls(&config),
        Some(Command::Seed {
            orders,
            days,
            seed,
            force,
        }) => {
            let plan = orderhub::orders::seed::SeedPlan { orders, days, seed };
            seed_history(&config, plan, force).await
        }
        _ => serve(config).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn seed_history(
    config: &Config,
    plan: orderhub::orders::seed::SeedPlan,
    force: bool,
) -> Result<(), String> {
    let db = orderhub::db::connect(&config.database, Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let foreign = orderhub::orders::seed::foreign_orders(&db)
        .await
        .map_err(|e| e.to_string())?;
    if foreign > 0 && !force {
        return Err(format!(
            "the database holds {foreign} orders that were not seeded: seed a database of its own (or pass --force to mix synthetic history in)"
        ));
    }
    let started = std::time::Instant::now();
    let done = orderhub::orders::seed::seed_history(&db, plan)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "seeded {} orders and {} timeline events over {} days in {:.1} s",
        done.orders,
        done.events,
        plan.days,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

mod keys {
    //! `orderhub keys …`: the same key service the admin mutations use.

    use orderhub::{
        Config,
        access::{AccessService, KeyRow, NewKey, Scope, scopes_of, shops_of},
        graphql::ids::{self, Kind},
        refusal::OrderError,
    };

    use super::KeysCommand;

    /// A shop or key id as given: the API's global id or the row number.
    fn row_id(raw: &str, kind: Kind) -> Result<i64, String> {
        ids::decode(kind, raw.trim())
            .or_else(|| raw.trim().parse().ok().filter(|n: &i64| *n > 0))
            .ok_or_else(|| format!("`{raw}` is not an id"))
    }

    fn show(k: &KeyRow) -> String {
        let scopes: Vec<&str> = scopes_of(k).iter().map(|s| s.as_str()).collect();
        let shops = match shops_of(k) {
            None => "every shop".to_owned(),
            Some(s) => s
                .iter()
                .map(|id| ids::encode(Kind::Shop, *id).0)
                .collect::<Vec<_>>()
                .join(","),
        };
        let state = match k.revoked_at {
            Some(t) => format!("revoked {t}"),
            None => "active".into(),
        };
        format!(
            "{}  {}  {}…  scopes={}  shops={}  {}",
            ids::encode(Kind::ApiKey, k.id).0,
            k.name,
            k.prefix,
            scopes.join(","),
            shops,
            state
        )
    }

    fn refused(e: OrderError) -> String {
        match e {
            OrderError::User(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field.join("."), e.message))
                .collect::<Vec<_>>()
                .join("; "),
            OrderError::Db(e) => e.to_string(),
        }
    }

    pub async fn run(config: &Config, command: KeysCommand) -> Result<(), String> {
        let db = orderhub::db::connect(&config.database, Default::default())
            .await
            .map_err(|e| e.to_string())?;
        let access = AccessService::new(db, config.live(), false);
        match command {
            KeysCommand::Create {
                name,
                scopes,
                shops,
            } => {
                let scopes = scopes
                    .iter()
                    .map(|s| s.parse::<Scope>())
                    .collect::<Result<Vec<_>, _>>()?;
                let shops = shops
                    .map(|list| list.iter().map(|s| row_id(s, Kind::Shop)).collect())
                    .transpose()?;
                let issued = access
                    .create_key(NewKey {
                        name,
                        scopes,
                        shops,
                    })
                    .await
                    .map_err(refused)?;
                println!("{}", show(&issued.key));
                println!();
                println!("secret (shown this once; send it as `Authorization: Bearer <secret>`):");
                println!("{}", issued.secret);
            }
            KeysCommand::List => {
                for k in access.keys().await.map_err(refused)? {
                    println!("{}", show(&k));
                }
            }
            KeysCommand::Revoke { id } => {
                let key = access
                    .revoke_key(row_id(&id, Kind::ApiKey)?)
                    .await
                    .map_err(refused)?;
                println!("{}", show(&key));
            }
        }
        Ok(())
    }
}

fn callback_urls(config: &Config) -> Result<(), String> {
    let base = config
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{}", config.server.host, config.server.port));
    let base = base.trim_end_matches('/');
    let secret = config
        .dada
        .app_secret
        .clone()
        .ok_or("dada.app_secret is not configured (the message URL's token comes from it)")?;
    let token = orderhub::providers::dada::callback::CallbackTokens::new(secret).message_token();
    println!("dada message URL (Dada console):   {base}/callbacks/dada/message/{token}");
    println!(
        "dada status callbacks:             {base}/callbacks/dada/status/<per-order token> (sent with each order)"
    );
    println!("wechat message push (mini-program): {base}/callbacks/wechat");
    println!("58 daojia order push:              {base}/callbacks/daojia58/orders");
    println!("daoway cancel notification:        {base}/callbacks/daoway/cancel");
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    let app = Application::build(config)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        "orderhub listening on {0} — GraphiQL at {0}/graphiql, GraphQL at {0}/graphql",
        app.base_url()
    );
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn init_tracing(format: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
