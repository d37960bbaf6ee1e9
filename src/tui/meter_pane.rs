//! The rate-limit meter of the selected connection.
//!
//! A server that sends no `X-RateLimit-*` headers has no limit we know of:
//! that reads "no limit reported", never zero.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};

use super::App;
use super::format::{ago, until};
use super::widgets::bar;
use crate::act::Meter;
use crate::journal::JournalEntry;

/// Minutes the sparkline covers.
pub const SPARK_MINUTES: usize = 60;

/// Calls of `connection` per minute over the last hour before `now`, oldest
/// minute first: the last bucket holds the calls of the last 60 seconds, the
/// first those of 59..60 minutes ago. Entries in the future (a clock step) count
/// in the last bucket; older ones are left out.
pub fn calls_per_minute<'a>(
    journal: impl IntoIterator<Item = &'a JournalEntry>,
    connection: &str,
    now: DateTime<Utc>,
) -> [u64; SPARK_MINUTES] {
    let mut buckets = [0u64; SPARK_MINUTES];
    // Most of a full journal is older than the hour: one comparison of instants
    // rules an entry out before any arithmetic or any comparison of names.
    let span = chrono::TimeDelta::minutes(i64::try_from(SPARK_MINUTES).unwrap_or(i64::MAX));
    let horizon = now
        .checked_sub_signed(span)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    for entry in journal {
        if entry.at <= horizon || entry.connection != connection {
            continue;
        }
        let minutes_ago =
            usize::try_from((now - entry.at).num_seconds().max(0) / 60).unwrap_or(usize::MAX);
        if minutes_ago < SPARK_MINUTES {
            buckets[SPARK_MINUTES - 1 - minutes_ago] += 1;
        }
    }
    buckets
}

/// The words for a reading: "13 used of 100 · 87 left · resets in 42s".
fn describe(app: &App, meter: &Meter) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let mut spans = Vec::new();
    match (meter.limit, meter.remaining) {
        (Some(limit), Some(remaining)) => {
            let used = limit.saturating_sub(remaining);
            let style = if remaining == 0 {
                theme.danger()
            } else {
                theme.accent()
            };
            spans.push(Span::styled(format!("{used} used of {limit}"), style));
            spans.push(Span::styled(format!(" · {remaining} left"), style));
        }
        (None, Some(remaining)) => {
            spans.push(Span::raw(format!("{remaining} left (no limit reported)")));
        }
        (Some(limit), None) => {
            spans.push(Span::raw(format!("limit {limit} (remaining not reported)")));
        }
        (None, None) if !meter.unreadable.is_empty() => spans.push(Span::styled(
            format!(
                "rate-limit headers unreadable: {}",
                meter.unreadable.describe()
            ),
            theme.warning(),
        )),
        (None, None) => spans.push(Span::styled("no limit reported", theme.muted())),
    }
    if let Some(reset_at) = meter.reset_at {
        let text = if reset_at > app.now {
            format!(" · resets {}", until(app.now, reset_at))
        } else {
            " · window has reset".to_owned()
        };
        spans.push(Span::styled(text, theme.muted()));
    }
    spans
}

/// One line for the compact layout: "rate limit: ...".
pub fn summary_line(app: &App, meter: Option<&Meter>) -> Line<'static> {
    let mut spans = vec![Span::styled("rate limit ", app.theme.muted())];
    match meter {
        Some(meter) => spans.extend(describe(app, meter)),
        None => spans.push(Span::styled("no limit reported", app.theme.muted())),
    }
    Line::from(spans)
}

/// Draws the meter pane into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let selection = app.selection();
    let meter = selection
        .and_then(|(_, s)| s)
        .and_then(|s| s.meter.as_ref());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(app.focus == super::Pane::Meter))
        .title(Span::styled(" Rate limit ", theme.title()));
    let inner_width = area.width.saturating_sub(2);

    let lines = match meter {
        None => vec![
            Line::styled("no limit reported", theme.accent()),
            Line::styled(
                "this server sent no X-RateLimit headers (usual on premises)",
                theme.muted(),
            ),
        ],
        Some(meter) => {
            let mut lines = Vec::new();
            if let (Some(limit), Some(remaining)) = (meter.limit, meter.remaining) {
                #[allow(clippy::cast_precision_loss)] // call counts are small
                let ratio = if limit == 0 {
                    1.0
                } else {
                    limit.saturating_sub(remaining) as f64 / limit as f64
                };
                lines.push(Line::from(bar(theme, ratio, inner_width.min(40))));
            }
            lines.push(Line::from(describe(app, meter)));
            // Unreadable next to readable headers: say which, so a half reading is not trusted.
            if !meter.unreadable.is_empty() && (meter.limit.is_some() || meter.remaining.is_some())
            {
                lines.push(Line::styled(
                    format!("unreadable: {}", meter.unreadable.describe()),
                    theme.warning(),
                ));
            }
            lines.push(Line::styled(
                format!("read {}", ago(app.now, meter.read_at)),
                theme.muted(),
            ));
            lines
        }
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The sparkline takes the bottom rows when there is room for text above it.
    let spark_rows = if inner.height >= 7 { 3 } else { 0 };
    let [text, label, spark] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::from(spark_rows > 0)),
        Constraint::Length(spark_rows),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text);
    let Some((info, _)) = selection else { return };
    if spark_rows == 0 {
        return;
    }
    let counts = calls_per_minute(&app.journal, &info.name, app.now);
    let total: u64 = counts.iter().sum();
    let peak = counts.iter().copied().max().unwrap_or(0);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "calls/min, last hour: {total} call{}, peak {peak}/min",
                if total == 1 { "" } else { "s" }
            ),
            theme.muted(),
        )),
        label,
    );
    // The newest minutes at the right edge, as many as fit.
    let fit = usize::from(spark.width).min(SPARK_MINUTES);
    frame.render_widget(
        Sparkline::default()
            .data(&counts[SPARK_MINUTES - fit..])
            .max(peak.max(1))
            .style(theme.gauge()),
        spark,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::act::{CallKind, Verdict};
    use chrono::TimeZone as _;

    fn entry(connection: &str, secs_ago: i64, now: DateTime<Utc>) -> JournalEntry {
        JournalEntry {
            at: now - chrono::Duration::seconds(secs_ago),
            connection: connection.into(),
            call: CallKind::Refresh,
            status: Some(200),
            reason: None,
            latency: std::time::Duration::from_millis(5),
            verdict: Verdict::ok(),
            meter: None,
            rule: "r".into(),
            url: String::new(),
            detail: crate::act::HttpDetail::default(),
        }
    }

    #[test]
    fn calls_fall_into_minute_buckets_of_the_last_hour() {
        let now = Utc.with_ymd_and_hms(2025, 3, 14, 12, 0, 0).unwrap();
        let journal = [
            entry("a", 0, now),
            entry("a", 59, now),
            entry("a", 60, now),
            entry("b", 30, now),
            entry("a", 59 * 60 + 59, now),
            entry("a", 3600, now),
            entry("a", -5, now),
        ];
        let counts = calls_per_minute(&journal, "a", now);
        assert_eq!(counts[SPARK_MINUTES - 1], 3, "last minute: 0s, 59s, future");
        assert_eq!(counts[SPARK_MINUTES - 2], 1, "60s ago");
        assert_eq!(counts[0], 1, "59m59s ago is the oldest bucket; 60m is out");
        assert_eq!(counts.iter().sum::<u64>(), 5);
    }

    #[test]
    fn the_hour_ends_at_the_same_instant_to_the_millisecond() {
        let now = Utc.with_ymd_and_hms(2025, 3, 14, 12, 0, 0).unwrap();
        let at = |millis_ago: i64| {
            let mut e = entry("a", 0, now);
            e.at = now - chrono::TimeDelta::milliseconds(millis_ago);
            e
        };
        let journal = [
            at(3_599_999),
            at(3_600_000),
            at(3_600_001),
            at(10 * 3_600_000),
        ];
        let counts = calls_per_minute(&journal, "a", now);
        assert_eq!(counts[0], 1, "only the entry inside the hour counts");
        assert_eq!(counts.iter().sum::<u64>(), 1);
    }
}
