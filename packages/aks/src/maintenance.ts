import type { MaintenanceConfig, MaintenanceWindowSpec, StepKind } from "./types.ts";

/** The planned-maintenance configuration that governs a step: version upgrades vs node OS images. */
export const AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule";
export const NODE_OS_SCHEDULE = "aksManagedNodeOSUpgradeSchedule";

export function scheduleFor(kind: StepKind): string {
  return kind === "node-image" ? NODE_OS_SCHEDULE : AUTO_UPGRADE_SCHEDULE;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const WEEK_INDEX = ["First", "Second", "Third", "Fourth"];
const DAY_MS = 86_400_000;

function offsetMinutes(utcOffset: string | undefined): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(utcOffset ?? "+00:00");
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Days since 1970-01-01 of a local calendar date (UTC arithmetic on the date only). */
function dayNumber(y: number, mo: number, d: number): number {
  return Math.floor(Date.UTC(y, mo, d) / DAY_MS);
}

function matchesDate(w: MaintenanceWindowSpec, y: number, mo: number, d: number): boolean {
  const day = dayNumber(y, mo, d);
  const start = w.startDate ? Math.floor(Date.parse(`${w.startDate}T00:00:00Z`) / DAY_MS) : 0;
  if (day < start) return false;
  const iso = new Date(day * DAY_MS).toISOString().slice(0, 10);
  for (const na of w.notAllowedDates ?? []) if (iso >= na.start && iso <= na.end) return false;
  const weekday = DAYS[new Date(day * DAY_MS).getUTCDay()];
  const s = w.schedule;
  if (s.daily) return (day - start) % Math.max(1, s.daily.intervalDays) === 0;
  if (s.weekly) {
    if (weekday !== s.weekly.dayOfWeek) return false;
    return Math.floor((day - start) / 7) % Math.max(1, s.weekly.intervalWeeks) === 0;
  }
  const startMonth = w.startDate
    ? Number(w.startDate.slice(0, 4)) * 12 + Number(w.startDate.slice(5, 7)) - 1
    : 0;
  const monthsSince = y * 12 + mo - startMonth;
  if (s.absoluteMonthly) {
    return (
      d === s.absoluteMonthly.dayOfMonth && monthsSince % Math.max(1, s.absoluteMonthly.intervalMonths) === 0
    );
  }
  if (s.relativeMonthly) {
    if (weekday !== s.relativeMonthly.dayOfWeek) return false;
    if (monthsSince % Math.max(1, s.relativeMonthly.intervalMonths) !== 0) return false;
    if (s.relativeMonthly.weekIndex === "Last") return d + 7 > new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    return Math.floor((d - 1) / 7) === WEEK_INDEX.indexOf(s.relativeMonthly.weekIndex);
  }
  return false;
}

/** Window occurrences [start, end) in UTC that overlap [from, from + days). */
export function occurrences(
  w: MaintenanceWindowSpec,
  from: Date,
  days: number,
): Array<{ start: Date; end: Date }> {
  const off = offsetMinutes(w.utcOffset);
  const [hh, mm] = w.startTime.split(":").map(Number);
  const out: Array<{ start: Date; end: Date }> = [];
  // Begin a few days early: a window that started before `from` may still be open.
  const first = Math.floor((from.getTime() + off * 60_000) / DAY_MS) - Math.ceil(w.durationHours / 24) - 1;
  for (let day = first; day <= first + days + 2; day++) {
    const date = new Date(day * DAY_MS);
    if (!matchesDate(w, date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())) continue;
    const start = new Date(day * DAY_MS + ((hh ?? 0) * 60 + (mm ?? 0) - off) * 60_000);
    const end = new Date(start.getTime() + w.durationHours * 3_600_000);
    if (end > from && start < new Date(from.getTime() + days * DAY_MS)) out.push({ start, end });
  }
  return out;
}

/** Whether `now` falls in the window, and the window that is open or comes next. */
export function windowStatus(
  w: MaintenanceWindowSpec,
  now: Date,
): { open: boolean; current?: { start: Date; end: Date }; next?: { start: Date; end: Date } } {
  const occ = occurrences(w, now, 120);
  const current = occ.find((o) => o.start <= now && now < o.end);
  const next = occ.find((o) => o.start > now);
  return { open: current !== undefined, current, next };
}

/** "Weekly on Sunday 01:00 +00:00 for 4h" */
export function describeWindow(c: MaintenanceConfig): string {
  const w = c.window;
  if (!w) return `${c.name}: no maintenanceWindow`;
  const s = w.schedule;
  const when = s.weekly
    ? `every ${s.weekly.intervalWeeks > 1 ? `${s.weekly.intervalWeeks} weeks` : "week"} on ${s.weekly.dayOfWeek}`
    : s.daily
      ? `every ${s.daily.intervalDays > 1 ? `${s.daily.intervalDays} days` : "day"}`
      : s.absoluteMonthly
        ? `day ${s.absoluteMonthly.dayOfMonth} of every ${s.absoluteMonthly.intervalMonths} month(s)`
        : s.relativeMonthly
          ? `${s.relativeMonthly.weekIndex} ${s.relativeMonthly.dayOfWeek} of every ${s.relativeMonthly.intervalMonths} month(s)`
          : "no schedule";
  return `${c.name}: ${when} at ${w.startTime} ${w.utcOffset ?? "+00:00"} for ${w.durationHours}h`;
}
