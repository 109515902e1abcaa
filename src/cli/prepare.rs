//! The command line's flags as session [`Settings`]: parsing what clap
//! leaves as text (strategies, splits, JSONL fields) into typed values. The
//! rest (profiles, layering, the fallback policy, the tokenizer) is the
//! session's ([`crate::session`]), shared with the inspector.

use crate::input::profile::{Overrides, parse_split};
use crate::input::{GitRecency, InputFormat, LoadOptions};
use crate::report::ColorMode;
use crate::session::{Session, Settings};

use super::args::{ColorChoice, InputArgs};
use super::{CliError, PackArgs};

/// Maps `--color` to the report module's colour mode.
pub fn color_mode(choice: ColorChoice) -> ColorMode {
    match choice {
        ColorChoice::Auto => ColorMode::Auto,
        ColorChoice::Always => ColorMode::Always,
        ColorChoice::Never => ColorMode::Never,
    }
}

/// The loader options from the command line (the session adds the
/// project's priority rules).
pub fn load_options(args: &InputArgs) -> Result<LoadOptions, CliError> {
    let mut o = LoadOptions::default();
    if let Some(f) = &args.format {
        o.format = Some(f.parse::<InputFormat>()?);
    }
    o.heading_level = args.heading_level;
    o.include = args.include.clone();
    o.exclude = args.exclude.clone();
    o.hidden = args.hidden;
    o.image_size = args.image_size;
    if args.git_recency {
        o.git_recency = Some(GitRecency::default());
    }
    if let Some(spec) = &args.jsonl_fields {
        for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (field, name) = pair.split_once('=').ok_or_else(|| {
                CliError::Usage(format!(
                    "--jsonl-fields `{spec}`: expected FIELD=NAME pairs such as `text=content`"
                ))
            })?;
            let name = name.trim().to_string();
            match field.trim() {
                "id" => o.jsonl_fields.id = name,
                "text" => o.jsonl_fields.text = name,
                "score" => o.jsonl_fields.score = name,
                other => {
                    return Err(CliError::Usage(format!(
                        "--jsonl-fields: unknown field `{other}`; expected id, text or score"
                    )));
                }
            }
        }
    }
    Ok(o)
}

/// The session settings `pack`, `check`, `watch` and the inspector run
/// with.
pub fn settings(args: &PackArgs) -> Result<Settings, CliError> {
    Ok(Settings {
        paths: args.paths.clone(),
        models_file: args.shared.models_file.clone(),
        profile: args.profile.clone(),
        overrides: overrides(args)?,
        load: load_options(&args.input)?,
        summarizer: args.summarizer.clone(),
        optimal_deadline: args.optimal_deadline.map(|d| d.0),
        tokenizer_file: args.tokenizer_file.clone(),
        count_api: args.count_api,
        count_progress: Some(std::sync::Arc::new(super::status_line::CountApiLine::new())),
    })
}

/// Opens the session for `pack`/`check`/`watch`.
pub fn prepare(args: &PackArgs) -> Result<Session, CliError> {
    Ok(Session::open(&settings(args)?)?)
}

/// The command-line settings that layer over an item set and its profile.
pub fn overrides(args: &PackArgs) -> Result<Overrides, CliError> {
    Ok(Overrides {
        model: args.model.clone(),
        encoding: args.encoding.clone(),
        budget: args.budget,
        reserve_output: args.reserve_output,
        strategy: args.strategy.as_deref().map(str::parse).transpose()?,
        overflow: args.overflow.as_deref().map(str::parse).transpose()?,
        split: args
            .split
            .as_deref()
            .map(parse_split)
            .transpose()?
            .unwrap_or_default(),
    })
}
