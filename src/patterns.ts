/**
 * Event types are dot-separated tokens (`task.completed`); patterns add NATS-style wildcards:
 * `*` stands for exactly one token, `>` (last token only) for one or more trailing tokens.
 */

import { describeValue } from "./_checks.js";

/** Longest event type or pattern accepted, in characters. */
export const MAX_EVENT_TYPE_LENGTH = 1024;

const WHITESPACE = /\s/u;
/** Valid event types and patterns in one test each: the common case skips the token-by-token check. */
const VALID_TYPE = /^[^\s.*>\p{Cs}]+(?:\.[^\s.*>\p{Cs}]+)*$/u;
const VALID_PATTERN = /^(?:(?:[^\s.*>\p{Cs}]+|\*)(?:\.(?:[^\s.*>\p{Cs}]+|\*))*(?:\.>)?|>)$/u;
/** A lone UTF-16 surrogate: a UTF-8 wire would turn it into U+FFFD, merging distinct types. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkText(value: unknown, argument: string): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(`${argument} must be a string, got ${describeValue(value)}`);
  }
  if (value.length === 0) throw new TypeError(`${argument} must not be empty`);
  if (value.length > MAX_EVENT_TYPE_LENGTH) {
    throw new TypeError(
      `${argument} is ${value.length} characters long, over the limit of ${MAX_EVENT_TYPE_LENGTH}: ${JSON.stringify(value.slice(0, 40))}...`,
    );
  }
  if (WHITESPACE.test(value)) {
    throw new TypeError(`${argument} must not contain whitespace, got ${describeValue(value)}`);
  }
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(
      `${argument} must be well-formed Unicode (it holds a lone surrogate), got ${describeValue(value)}`,
    );
  }
}

/** True when the string holds a wildcard token and so is a pattern, not a plain event type. */
export function isPattern(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes(">");
}

/** Throws a TypeError naming the value unless it is a valid event type (no wildcards). */
export function assertEventType(value: unknown, argument = "eventType"): asserts value is string {
  if (typeof value === "string" && value.length <= MAX_EVENT_TYPE_LENGTH && VALID_TYPE.test(value)) return;
  checkText(value, argument);
  for (const token of value.split(".")) {
    if (token === "") throw new TypeError(`${argument} has an empty token: ${describeValue(value)}`);
    if (token.includes("*") || token.includes(">")) {
      throw new TypeError(
        `${argument} must not contain wildcards (* or >): it names one event type, got ${describeValue(value)}`,
      );
    }
  }
}

/** Throws a TypeError naming the value unless it is a valid event type or wildcard pattern. */
export function assertPattern(value: unknown, argument = "pattern"): asserts value is string {
  if (typeof value === "string" && value.length <= MAX_EVENT_TYPE_LENGTH && VALID_PATTERN.test(value)) return;
  checkText(value, argument);
  const tokens = value.split(".");
  tokens.forEach((token, index) => {
    if (token === "") throw new TypeError(`${argument} has an empty token: ${describeValue(value)}`);
    if (token === "*") return;
    if (token === ">") {
      if (index === tokens.length - 1) return;
      throw new TypeError(`${argument} may use ">" only as its last token, got ${describeValue(value)}`);
    }
    if (token.includes("*") || token.includes(">")) {
      throw new TypeError(
        `${argument} must use * and > as whole tokens (like "task.*"), got ${describeValue(value)}`,
      );
    }
  });
}

/** True when the event type matches the pattern (an exact type matches only itself). */
export function matches(pattern: string, eventType: string): boolean {
  if (pattern === eventType) return true;
  const want = pattern.split(".");
  const have = eventType.split(".");
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === ">") return have.length > i;
    if (i >= have.length) return false;
    if (token !== "*" && token !== have[i]) return false;
  }
  return want.length === have.length;
}

interface TrieNode<T> {
  readonly children: Map<string, TrieNode<T>>;
  value: T | undefined;
}

function node<T>(): TrieNode<T> {
  return { children: new Map(), value: undefined };
}

/**
 * Pattern index: finding the patterns that match an event type costs a walk over its tokens,
 * whatever the number of patterns stored.
 */
export class PatternTrie<T> {
  private readonly root: TrieNode<T> = node();
  private count = 0;

  /** Number of patterns stored. */
  get size(): number {
    return this.count;
  }

  /** Stores a value under a pattern, replacing any value already there. */
  set(pattern: string, value: T): void {
    let current = this.root;
    for (const token of pattern.split(".")) {
      let next = current.children.get(token);
      if (next === undefined) {
        next = node();
        current.children.set(token, next);
      }
      current = next;
    }
    if (current.value === undefined) this.count++;
    current.value = value;
  }

  /** Removes the value stored under a pattern and prunes the branches left empty. */
  delete(pattern: string): boolean {
    const path: TrieNode<T>[] = [this.root];
    const tokens = pattern.split(".");
    for (const token of tokens) {
      const next = path[path.length - 1]?.children.get(token);
      if (next === undefined) return false;
      path.push(next);
    }
    const last = path[path.length - 1];
    if (last === undefined || last.value === undefined) return false;
    last.value = undefined;
    this.count--;
    for (let i = tokens.length; i > 0; i--) {
      const current = path[i] as TrieNode<T>;
      if (current.value !== undefined || current.children.size > 0) break;
      path[i - 1]?.children.delete(tokens[i - 1] as string);
    }
    return true;
  }

  /** Collects the values of every stored pattern that matches the event type. */
  match(eventType: string, into: T[] = []): T[] {
    this.walk(this.root, eventType.split("."), 0, into);
    return into;
  }

  private walk(current: TrieNode<T>, tokens: string[], index: number, into: T[]): void {
    if (index === tokens.length) {
      if (current.value !== undefined) into.push(current.value);
      return;
    }
    const rest = current.children.get(">");
    if (rest?.value !== undefined) into.push(rest.value);
    const exact = current.children.get(tokens[index] as string);
    if (exact !== undefined) this.walk(exact, tokens, index + 1, into);
    const star = current.children.get("*");
    if (star !== undefined) this.walk(star, tokens, index + 1, into);
  }
}
