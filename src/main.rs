//! `abitare` command line: thin layer over the library.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use abitare::analysis::Analisi;
use abitare::output::report::{self, Formato};
use abitare::pipeline;
use abitare::project::{MappaSection, Project, ServerSection};
use abitare::server::listen::{Limits, ServedWorkspace};

#[derive(Parser, Debug)]
#[command(
    name = "abitare",
    version,
    about = "Patrimonio abitativo pubblico e privato di un Ambito territoriale lombardo: modello spaziale, analisi, mappa e report"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct ServeOpts {
    /// Address to listen on.
    #[arg(long, env = "ABITARE_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on.
    #[arg(long, env = "ABITARE_PORT", default_value_t = 8080)]
    port: u16,
    /// The address users reach the server at (e.g. https://abitare.ambito9.it), for the links
    /// in OGC API, TileJSON and style documents; without it links follow the request's Host.
    #[arg(long, env = "ABITARE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Trust X-Forwarded-Host and X-Forwarded-Proto (only behind a reverse proxy that sets
    /// them: otherwise any client could choose the links the server writes).
    #[arg(long, env = "ABITARE_BEHIND_PROXY")]
    behind_proxy: bool,
    /// Seconds a client has to send a request's headers, counted from the connection or the
    /// previous response; also bounds idle connections [default: 10].
    #[arg(long, env = "ABITARE_HEADER_TIMEOUT", value_name = "S")]
    header_timeout: Option<u64>,
    /// Seconds a connection may stay idle (no request, no traffic) [default: 5].
    #[arg(long, env = "ABITARE_IDLE_TIMEOUT", value_name = "S")]
    idle_timeout: Option<u64>,
    /// Seconds to answer a request once its headers are in; past them: 408 [default: 60].
    #[arg(long, env = "ABITARE_REQUEST_TIMEOUT", value_name = "S")]
    request_timeout: Option<u64>,
    /// Seconds a request body may stall between two chunks [default: 15].
    #[arg(long, env = "ABITARE_BODY_TIMEOUT", value_name = "S")]
    body_timeout: Option<u64>,
    /// Largest request body in bytes; larger: 413 [default: 1048576].
    #[arg(long, env = "ABITARE_MAX_BODY_BYTES", value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// Connections served at once; further ones wait in the listen backlog [default: 512].
    #[arg(long, env = "ABITARE_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Seconds given to requests in flight on SIGTERM or SIGINT before exiting [default: 10].
    #[arg(long, env = "ABITARE_SHUTDOWN_GRACE", value_name = "S")]
    shutdown_grace: Option<u64>,
    /// The accounts database (SQLite) [default: abitare.sqlite beside the workspace].
    #[arg(long, env = "ABITARE_DB", value_name = "FILE")]
    db: Option<PathBuf>,
}

/// Where the accounts database is: `--db`, or `abitare.sqlite` beside `near` (the project file
/// or the workspace).
#[derive(Args, Debug, Clone)]
struct DbOpts {
    /// The accounts database (SQLite) [default: abitare.sqlite beside the project's workspace].
    #[arg(long, env = "ABITARE_DB", value_name = "FILE")]
    db: Option<PathBuf>,
    #[arg(long, default_value = "abitare.toml")]
    project: PathBuf,
}

impl DbOpts {
    fn path(&self) -> Result<PathBuf> {
        match &self.db {
            Some(p) => Ok(p.clone()),
            None => Ok(db_beside(&workspace_of(&self.project)?)),
        }
    }
    fn open(&self) -> Result<abitare::auth::Accounts> {
        let p = self.path()?;
        abitare::auth::Accounts::open(&p)
            .with_context(|| format!("apertura del registro degli account {}", p.display()))
    }
}

/// `abitare.sqlite` in the folder of the workspace `ws` (the project's folder).
fn db_beside(ws: &Path) -> PathBuf {
    ws.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("abitare.sqlite")
}

#[derive(Subcommand, Debug)]
enum UsersCommand {
    /// Add an account; without --password-stdin a password is generated and shown once.
    Aggiungi {
        /// User name (lowercase letters, digits, . _ -).
        nome: String,
        /// tavolo, ente, ufficio or amministratore.
        #[arg(long)]
        ruolo: String,
        /// The owner body of an `ente` account (e.g. "Comune di Clusone", "ALER Bergamo").
        #[arg(long)]
        ente: Option<String>,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbOpts,
    },
    /// Change an account's role (its sessions end).
    Ruolo {
        nome: String,
        #[arg(long)]
        ruolo: String,
        #[arg(long)]
        ente: Option<String>,
        #[command(flatten)]
        db: DbOpts,
    },
    /// Set a new password (generated and shown once, or from standard input).
    Password {
        nome: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbOpts,
    },
    /// Deactivate an account: its sessions end, its tokens are revoked; the record stays.
    Disattiva {
        nome: String,
        #[command(flatten)]
        db: DbOpts,
    },
    /// List the accounts.
    Elenco {
        #[command(flatten)]
        db: DbOpts,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a personal access token for an account; it is shown once.
    Crea {
        /// The account.
        utente: String,
        /// A name to recognise it by (e.g. "QGIS ufficio").
        #[arg(long)]
        nome: String,
        /// Days of validity.
        #[arg(long, default_value_t = 90)]
        giorni: i64,
        #[command(flatten)]
        db: DbOpts,
    },
    /// Revoke a token by its number (see `abitare token elenco`).
    Revoca {
        id: i64,
        #[command(flatten)]
        db: DbOpts,
    },
    /// List the tokens (of one account, or all).
    Elenco {
        utente: Option<String>,
        #[command(flatten)]
        db: DbOpts,
    },
}

impl ServeOpts {
    /// The listener limits: flag or environment first, then the project's `[server]` table,
    /// then the built-in default.
    fn limits(&self, project: &ServerSection) -> Limits {
        let d = Limits::default();
        let secs = |flag: Option<u64>, key: Option<u64>, default: Duration| {
            flag.or(key).map_or(default, Duration::from_secs)
        };
        Limits {
            header_read: secs(
                self.header_timeout,
                project.timeout_intestazioni_s,
                d.header_read,
            ),
            keep_alive_idle: secs(self.idle_timeout, project.keep_alive_s, d.keep_alive_idle),
            request: secs(self.request_timeout, project.timeout_richiesta_s, d.request),
            body_stall: secs(self.body_timeout, project.timeout_corpo_s, d.body_stall),
            body_bytes: self
                .max_body_bytes
                .or(project.corpo_max_byte)
                .unwrap_or(d.body_bytes),
            max_connections: self
                .max_connections
                .or(project.connessioni_max)
                .unwrap_or(d.max_connections),
            drain: secs(self.shutdown_grace, project.chiusura_s, d.drain),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate the demo Ambito 9 in real input formats, build it and serve the map.
    Demo {
        /// Where to write the demo inputs and workspace.
        #[arg(long, default_value = "demo-ambito9")]
        dir: PathBuf,
        /// Generate and build only; do not start the server.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        serve: ServeOpts,
    },
    /// Build the workspace of a project (abitare.toml).
    Build {
        #[arg(long, default_value = "abitare.toml")]
        project: PathBuf,
    },
    /// Serve the web map and API of a built workspace.
    Serve {
        /// Workspace directory (default: the one of --project).
        #[arg(long)]
        workspace: Option<PathBuf>,
        #[arg(long, default_value = "abitare.toml")]
        project: PathBuf,
        #[command(flatten)]
        serve: ServeOpts,
    },
    /// Export the public layers as GeoJSON, GeoPackage, GeoParquet, CSV or XLSX.
    Export {
        /// geojson, gpkg, geoparquet, csv or xlsx.
        #[arg(long)]
        format: String,
        /// Layers to export (repeatable; default or `tutto`: every public layer; `pacchetto_pgt`:
        /// candidate and excluded areas with PGT zones, vincoli, comuni, cadastre and (for
        /// tavolo and ufficio) the public units, for QGIS).
        #[arg(long = "layer", value_name = "NAME", num_args = 1..)]
        layers: Vec<String>,
        /// Output file; a folder for GeoJSON, GeoParquet and CSV with several layers.
        #[arg(long)]
        out: PathBuf,
        /// CSV geometry: wkt (a WKT column) or lonlat (point or centroid; only with a
        /// geographic --crs).
        #[arg(long, default_value = "wkt")]
        geometry: String,
        /// CRS of the coordinates: 4326 (default), 32632, 25832, 6707, 7791, 3003 or 6706
        /// (`EPSG:n` and OGC URNs too). GeoJSON in a CRS other than 4326 carries the legacy
        /// `crs` member (GDAL, QGIS), not RFC 7946.
        #[arg(long, default_value = "4326")]
        crs: String,
        /// Only the rows of this comune (ISTAT code, e.g. 016077).
        #[arg(long, value_name = "ISTAT")]
        comune: Option<String>,
        /// CSV for Italian Excel: UTF-8 BOM, `;` between fields, `,` as decimal separator.
        #[arg(long)]
        csv_excel: bool,
        /// For whom: pubblico (public layers, small counts withheld), tavolo (also the
        /// individual public units) or ufficio (also the private units offered to the desk).
        /// Files leave the service: give a restricted file only to who may read it.
        #[arg(long = "per", default_value = "pubblico")]
        audience: String,
        /// Workspace directory (default: the one of --project).
        #[arg(long, conflicts_with = "project")]
        workspace: Option<PathBuf>,
        #[arg(long, default_value = "abitare.toml")]
        project: PathBuf,
    },
    /// Write the vector tiles of the public layers into a PMTiles archive.
    Tiles {
        /// The archive to write (.pmtiles), replaced atomically.
        #[arg(long)]
        out: PathBuf,
        /// Workspace directory (default: the one of --project).
        #[arg(long)]
        workspace: Option<PathBuf>,
        #[arg(long, default_value = "abitare.toml")]
        project: PathBuf,
        /// Lowest zoom level.
        #[arg(long, default_value_t = abitare::output::pmtiles::DEFAULT_MIN_ZOOM)]
        minzoom: u8,
        /// Highest zoom level.
        #[arg(long, default_value_t = abitare::output::pmtiles::DEFAULT_MAX_ZOOM)]
        maxzoom: u8,
    },
    /// Reports.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Accounts: who may sign in, with which role.
    Utenti {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Personal access tokens (for QGIS, GDAL and scripts).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log (newest first).
    Registro {
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limite: usize,
        #[command(flatten)]
        db: DbOpts,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// The Piano Annuale dell'offerta abitativa: per-owner state table and sections a)–k).
    PianoAnnuale {
        /// A built workspace.
        #[arg(long, conflicts_with = "inventory")]
        workspace: Option<PathBuf>,
        /// A bare inventory file (CSV), with no workspace or cadastre.
        #[arg(long)]
        inventory: Option<PathBuf>,
        /// Project file whose workspace to read when neither --workspace nor --inventory is given.
        #[arg(long, default_value = "abitare.toml")]
        project: PathBuf,
        /// Plan year (with --inventory; a workspace carries its own).
        #[arg(long)]
        anno: Option<i32>,
        /// Ambito name printed in the report (with --inventory).
        #[arg(long, default_value = "")]
        ambito: String,
        /// testo, json, csv or html.
        #[arg(long, default_value = "testo")]
        format: String,
        /// Language of the text and HTML forms: it or en (JSON and CSV are data).
        #[arg(long, default_value = "it")]
        lang: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// With --inventory: skip rows that break a rule (each is listed) instead of failing.
        #[arg(long)]
        skip_bad_rows: bool,
    },
}

fn workspace_of(project: &Path) -> Result<PathBuf> {
    Ok(read_project(project)?.workspace_dir())
}

fn read_project(project: &Path) -> Result<Project> {
    Project::load(project).with_context(|| format!("lettura del progetto {}", project.display()))
}

fn load(workspace: &Path) -> Result<Analisi> {
    pipeline::load_workspace(workspace)
        .with_context(|| format!("apertura del workspace {}", workspace.display()))
}

/// Writes `text` to `out` through a temporary file renamed into place.
fn write_atomic(out: &Path, text: &str) -> Result<()> {
    abitare::atomic::write_file(out, text.as_bytes())
        .with_context(|| format!("scrittura di {}", out.display()))
}

fn build(project: &Path) -> Result<PathBuf> {
    let p = Project::load(project)
        .with_context(|| format!("lettura del progetto {}", project.display()))?;
    let outcome = pipeline::build(&p).with_context(|| {
        format!(
            "costruzione del workspace non riuscita (il workspace precedente, se esiste, è intatto): progetto {}",
            project.display()
        )
    })?;
    let m = &outcome.manifest;
    eprintln!(
        "Workspace {} costruito in {} ms",
        outcome.workspace.display(),
        m.durata_ms
    );
    for (layer, n) in &m.conteggi {
        eprintln!("  {layer:<18} {n:>8}");
    }
    eprintln!(
        "  unità collegate a una particella: {} (di cui su un fabbricato: {}), da coordinate: {}, non localizzate: {}",
        outcome.linkage.collegate_a_particella,
        outcome.linkage.collegate_a_fabbricato,
        outcome.linkage.localizzate_da_coordinate,
        outcome.linkage.non_localizzate
    );
    if !m.avvisi.is_empty() {
        eprintln!("Avvisi ({}):", m.avvisi.len());
        for a in m.avvisi.iter().take(20) {
            eprintln!("  - {a}");
        }
        if m.avvisi.len() > 20 {
            eprintln!("  … e altri {} (vedi manifest.json)", m.avvisi.len() - 20);
        }
    }
    Ok(outcome.workspace)
}

/// A random password of 20 characters from an alphabet without look-alikes (about 115 bits).
fn generated_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("generatore casuale: {e}"))?;
        // Rejection sampling: no bias towards the first letters.
        let limit = 256 - 256 % ALPHABET.len();
        for x in b {
            if (x as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[x as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// The password: one line of standard input, or a generated one (`true`: show it).
fn password_from(stdin: bool) -> Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("lettura della password dallo standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((generated_password()?, true))
    }
}

fn role(code: &str) -> Result<abitare::auth::Role> {
    code.parse::<abitare::auth::Role>()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The demo accounts, one per role, with new passwords at each start (printed once).
fn demo_accounts(accounts: &abitare::auth::Accounts) -> Result<Vec<(String, String, String)>> {
    use abitare::auth::Role;
    let mut out = Vec::new();
    for (name, r, ente) in [
        ("tavolo", Role::Tavolo, None),
        ("ente", Role::Ente, Some("Comune di Clusone")),
        ("ufficio", Role::Ufficio, None),
        ("amministratore", Role::Amministratore, None),
    ] {
        let password = generated_password()?;
        match accounts.account(name)? {
            Some(_) => {
                accounts.set_role(name, r, ente, None)?;
                accounts.set_password(name, &password, None)?;
            }
            None => {
                accounts.add_account(name, r, ente, &password, None)?;
            }
        }
        out.push((name.to_string(), r.label_it().to_string(), password));
    }
    Ok(out)
}

/// Serves the workspace `ws` until SIGTERM or SIGINT.
async fn serve(
    ws: &Path,
    opts: &ServeOpts,
    project: &ServerSection,
    mappa: &MappaSection,
) -> Result<()> {
    let loaded = load(ws)?;
    let db = opts.db.clone().unwrap_or_else(|| db_beside(ws));
    let accounts = abitare::auth::Accounts::open(&db)
        .with_context(|| format!("apertura del registro degli account {}", db.display()))?;
    if let Some(a) = accounts
        .ensure_admin_from_env()
        .context("primo amministratore da ABITARE_ADMIN_USER e ABITARE_ADMIN_PASSWORD")?
    {
        eprintln!(
            "Creato l'amministratore {} (da ABITARE_ADMIN_USER)",
            a.username
        );
    }
    if accounts.accounts()?.is_empty() {
        eprintln!(
            "Nessun account in {}: tutti vedono solo i dati pubblici. Primo amministratore: \
             abitare utenti aggiungi NOME --ruolo amministratore --db {}",
            db.display(),
            db.display()
        );
    }
    let manifest = abitare::model::workspace::read_manifest(ws)
        .with_context(|| format!("apertura del workspace {}", ws.display()))?;
    let served = ServedWorkspace::from_manifest(&manifest);
    let limits = opts.limits(project);
    let links =
        abitare::server::base::UrlPolicy::new(opts.public_url.as_deref(), opts.behind_proxy)
            .context("opzione --public-url")?;
    let addr = SocketAddr::new(opts.host, opts.port);
    eprintln!(
        "Mappa dell'Ambito {} su http://{addr}/ (workspace del {}; Ctrl-C o SIGTERM per terminare)",
        loaded.model.ambito.nome, served.creato
    );
    let app = abitare::server::App::new(std::sync::Arc::new(loaded))
        .policy(links)
        .sfondo(mappa.sfondo.clone())
        .accounts(std::sync::Arc::new(accounts));
    abitare::server::serve_with(app, Some(served), addr, limits)
        .await
        .with_context(|| format!("server su {addr}"))?;
    eprintln!("Server terminato");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,abitare::http=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo {
            dir,
            no_serve,
            serve: opts,
        } => {
            let generated = abitare::demo::generate(&dir).with_context(|| {
                format!("generazione dei dati dimostrativi in {}", dir.display())
            })?;
            eprintln!(
                "Dati dimostrativi dell'Ambito 9 scritti in {} ({} file)",
                dir.display(),
                generated.files.len()
            );
            let ws = build(&generated.project)?;
            let db = opts.db.clone().unwrap_or_else(|| db_beside(&ws));
            let accounts = abitare::auth::Accounts::open(&db)
                .with_context(|| format!("apertura del registro degli account {}", db.display()))?;
            let created = demo_accounts(&accounts).context("account dimostrativi")?;
            drop(accounts);
            eprintln!(
                "Account dimostrativi (password nuove a ogni avvio, in {}):",
                db.display()
            );
            for (name, label, password) in &created {
                eprintln!("  {name:<15} {password}   ({label})");
            }
            eprintln!("  Accesso: http://{}:{}/accesso", opts.host, opts.port);
            if !no_serve {
                let p = read_project(&generated.project)?;
                serve(&ws, &opts, &p.server, &p.mappa).await?;
            }
        }
        Command::Build { project } => {
            build(&project)?;
        }
        Command::Serve {
            workspace,
            project,
            serve: opts,
        } => {
            // The project's `[server]` and `[mappa]` tables apply when the workspace comes
            // from it.
            let (ws, server, mappa) = match workspace {
                Some(w) => (w, ServerSection::default(), MappaSection::default()),
                None => {
                    let p = read_project(&project)?;
                    (p.workspace_dir(), p.server, p.mappa)
                }
            };
            serve(&ws, &opts, &server, &mappa).await?;
        }
        Command::Export {
            format,
            layers,
            out,
            geometry,
            crs,
            comune,
            csv_excel,
            audience,
            workspace,
            project,
        } => {
            use abitare::output::export;
            use abitare::output::layers::Audience;
            let Some(caller) = Audience::ALL.into_iter().find(|a| a.code() == audience) else {
                bail!("--per {audience:?}: indicare pubblico, tavolo o ufficio");
            };
            if caller != Audience::Pubblico {
                eprintln!(
                    "Esportazione per: {} (contiene dati riservati: da consegnare solo a chi può leggerli)",
                    caller.label_it()
                );
            }
            let format = export::Format::parse(&format).context("--format")?;
            let options = export::Options {
                csv_geometry: export::CsvGeometry::parse(&geometry).context("--geometry")?,
                csv_dialect: if csv_excel {
                    export::CsvDialect::Excel
                } else {
                    export::CsvDialect::Standard
                },
                crs: export::parse_crs(&crs).context("--crs")?,
            };
            options.check(format).context("--geometry e --crs")?;
            let request = export::Request {
                format,
                layers,
                out,
                options,
                caller,
                comune,
            };
            let ws = match workspace {
                Some(w) => w,
                None => workspace_of(&project)?,
            };
            let loaded = load(&ws)?;
            if let Some(c) = &request.comune {
                export::comune(&loaded, c).context("--comune")?;
            }
            let files = export::export(&loaded, &request)
                .with_context(|| format!("esportazione in {}", request.out.display()))?;
            for f in &files {
                eprintln!("Scritto {}", f.display());
            }
        }
        Command::Tiles {
            out,
            workspace,
            project,
            minzoom,
            maxzoom,
        } => {
            let ws = match workspace {
                Some(w) => w,
                None => workspace_of(&project)?,
            };
            let loaded = load(&ws)?;
            let t0 = std::time::Instant::now();
            // A PMTiles archive is a file anyone may read: public layers only.
            eprintln!(
                "Le tile dell'archivio sono quelle del pubblico (nessun accesso riservato: un \
                 file PMTiles non ha login): niente singoli alloggi, conteggi piccoli non pubblicati."
            );
            let source = abitare::output::mvt::TileSource::for_audience(
                &loaded,
                abitare::output::layers::Audience::Pubblico,
            );
            let prepared = t0.elapsed().as_secs_f64();
            let descrizione = if loaded.model.ambito.dimostrativo {
                format!("{} (dati dimostrativi)", loaded.model.ambito.nome)
            } else {
                loaded.model.ambito.nome.clone()
            };
            let stats = abitare::output::pmtiles::write_pmtiles(
                &source,
                &out,
                minzoom,
                maxzoom,
                "abitare",
                &descrizione,
            )
            .with_context(|| format!("scrittura delle tile in {}", out.display()))?;
            eprintln!(
                "{}: {} tile (zoom {minzoom}–{maxzoom}, {} esaminate), {:.1} MB, in {:.2} s (preparazione {:.2} s)",
                out.display(),
                stats.tiles,
                stats.candidates,
                stats.file_bytes as f64 / 1e6,
                stats.seconds + prepared,
                prepared
            );
        }
        Command::Report {
            report:
                ReportCommand::PianoAnnuale {
                    workspace,
                    inventory,
                    project,
                    anno,
                    ambito,
                    format,
                    lang,
                    out,
                    skip_bad_rows,
                },
        } => {
            let Some(formato) = Formato::parse(&format) else {
                bail!("formato non valido: {format:?} (testo, json, csv, html)");
            };
            let Some(lingua) = report::Lingua::parse(&lang) else {
                bail!("lingua non valida: --lang {lang:?} (it, en)");
            };
            let text = if let Some(inv) = inventory {
                let anno = anno.unwrap_or_else(|| {
                    use chrono::Datelike;
                    chrono::Local::now().year() + 1
                });
                let (piano, skipped) =
                    pipeline::report_from_inventory(&inv, &ambito, anno, skip_bad_rows)
                        .with_context(|| format!("lettura dell'inventario {}", inv.display()))?;
                for s in &skipped {
                    eprintln!("riga scartata: {s}");
                }
                report::render_in(&piano, formato, lingua)
            } else {
                let ws = match workspace {
                    Some(w) => w,
                    None => workspace_of(&project)?,
                };
                let loaded = load(&ws)?;
                if let Some(a) = anno {
                    if a != loaded.report.anno {
                        bail!(
                            "il workspace {} è del piano {}, non {a}: ricostruirlo con l'anno giusto nel progetto",
                            ws.display(),
                            loaded.report.anno
                        );
                    }
                }
                report::render_con_privato_in(&loaded.report, &loaded.privato, formato, lingua)
            };
            match out {
                Some(path) => write_atomic(&path, &text)?,
                None => print!("{text}"),
            }
        }
        Command::Utenti { command } => users(command)?,
        Command::Token { command } => tokens(command)?,
        Command::Registro { limite, db } => {
            let accounts = db.open()?;
            for e in accounts.audit_log(limite, None)? {
                println!(
                    "{:>6}  {}  {:<20} {:<18} {}{}",
                    e.id,
                    e.at.format("%Y-%m-%d %H:%M:%S"),
                    e.actor.as_deref().unwrap_or("-"),
                    e.event,
                    e.detail,
                    e.address.map(|a| format!("  [{a}]")).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn users(command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::Aggiungi {
            nome,
            ruolo,
            ente,
            password_stdin,
            db,
        } => {
            let accounts = db.open()?;
            let (password, show) = password_from(password_stdin)?;
            let a = accounts
                .add_account(&nome, role(&ruolo)?, ente.as_deref(), &password, None)
                .with_context(|| format!("account {nome:?}"))?;
            eprintln!("Account {} creato: {}", a.username, a.role.label_it());
            if show {
                println!("{password}");
                eprintln!("(la password qui sopra è mostrata solo ora)");
            }
        }
        UsersCommand::Ruolo {
            nome,
            ruolo,
            ente,
            db,
        } => {
            let a = db
                .open()?
                .set_role(&nome, role(&ruolo)?, ente.as_deref(), None)
                .with_context(|| format!("account {nome:?}"))?;
            eprintln!("Account {}: ora {}", a.username, a.role.label_it());
        }
        UsersCommand::Password {
            nome,
            password_stdin,
            db,
        } => {
            let (password, show) = password_from(password_stdin)?;
            db.open()?
                .set_password(&nome, &password, None)
                .with_context(|| format!("account {nome:?}"))?;
            eprintln!("Password di {nome} cambiata; le sue sessioni sono chiuse");
            if show {
                println!("{password}");
            }
        }
        UsersCommand::Disattiva { nome, db } => {
            db.open()?
                .deactivate(&nome, None)
                .with_context(|| format!("account {nome:?}"))?;
            eprintln!("Account {nome} disattivato: sessioni chiuse, token revocati");
        }
        UsersCommand::Elenco { db } => {
            for a in db.open()?.accounts()? {
                println!(
                    "{:<20} {:<16} {:<28} {}",
                    a.username,
                    a.role.code(),
                    a.ente.as_deref().unwrap_or("-"),
                    if a.active { "attivo" } else { "disattivato" }
                );
            }
        }
    }
    Ok(())
}

fn tokens(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Crea {
            utente,
            nome,
            giorni,
            db,
        } => {
            if !(1..=730).contains(&giorni) {
                bail!("--giorni {giorni}: indicare da 1 a 730 giorni");
            }
            let (info, secret) = db
                .open()?
                .create_token(&utente, &nome, Some(chrono::Duration::days(giorni)), None)
                .with_context(|| format!("token per {utente:?}"))?;
            eprintln!(
                "Token {} ({}) creato per {}, valido {giorni} giorni; mostrato solo ora:",
                info.id, info.name, info.username
            );
            println!("{secret}");
        }
        TokenCommand::Revoca { id, db } => {
            db.open()?
                .revoke_token(id, None)
                .with_context(|| format!("token {id}"))?;
            eprintln!("Token {id} revocato");
        }
        TokenCommand::Elenco { utente, db } => {
            for t in db.open()?.tokens(utente.as_deref())? {
                println!(
                    "{:>5}  {:<16} {:<24} abt_{}…  {}",
                    t.id,
                    t.username,
                    t.name,
                    t.prefix,
                    match (t.revoked_at, t.expires_at) {
                        (Some(_), _) => "revocato".to_string(),
                        (None, Some(e)) => format!("scade {}", e.format("%Y-%m-%d")),
                        (None, None) => "senza scadenza".into(),
                    }
                );
            }
        }
    }
    Ok(())
}
