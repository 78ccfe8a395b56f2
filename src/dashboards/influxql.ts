/**
 * InfluxQL fragments for dashboard queries, spelled from the declared names (never typed by
 * hand), with Grafana's macros left in place for dashboardQueries.ts to expand.
 *
 * @example
 * `SELECT ${agg('max', 'lag_messages', 'lag')} FROM ${from('diffwatch_internal')} WHERE ${matches('instance', 'instance')} AND $timeFilter`
 * // SELECT max("lag_messages") AS "lag" FROM "diffwatch_internal" WHERE "instance" =~ /^$instance$/ AND $timeFilter
 */
import { quoteIdent } from '../sinks/influxQl.ts';

export const id = quoteIdent;

/** `fn("field") AS "as"`; without `as`, no alias. */
export const agg = (fn: string, field: string, as?: string) => `${fn}(${id(field)})${as !== undefined ? ` AS ${id(as)}` : ''}`;

/** `"tag" =~ /^$variable$/`: Grafana regex-escapes variable values, so they belong in a regex. */
export const matches = (tag: string, variable: string) => `${id(tag)} =~ /^$${variable}$/`;

/** `"measurement"` (the default policy: raw points) or `"policy"."measurement"`. */
export const from = (measurement: string, policy?: string) => (policy !== undefined ? `${id(policy)}.${id(measurement)}` : id(measurement));
