// The building blocks every domain file uses to declare its methods: a method is an argument
// schema (zod, checked in main) plus a phantom result type (compile time only), and its
// channel name is derived from where it sits: `annot:<domain>.<method>`.
// Runtime-neutral: zod runs anywhere; no Node, DOM or Electron.
import { z } from 'zod'

declare const RESULT: unique symbol

/** Carries a method's result type at compile time; holds nothing at run time. */
export interface Result<T> {
  readonly [RESULT]?: T
}

export function result<T>(): Result<T> {
  return {}
}

export interface MethodSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  /** Validates the one argument a renderer passes (as `unknown`) before main does anything. */
  readonly input: I
  readonly output: Result<O>
}

export function method<I extends z.ZodType, O>(input: I, output: Result<O>): MethodSpec<I, O> {
  return { input, output }
}

/** The argument schema of methods that take none: anything else is refused. */
export const NO_ARGUMENT = z.undefined()

export type DomainSpec = Record<string, MethodSpec>

export type Channel<D extends string, M extends string> = `annot:${D}.${M}`

export function channelOf<D extends string, M extends string>(domain: D, name: M): Channel<D, M> {
  return `annot:${domain}.${name}`
}

export type InputOf<S> = S extends MethodSpec<infer I, unknown> ? z.input<I> : never
export type ParsedOf<S> = S extends MethodSpec<infer I, unknown> ? z.output<I> : never
export type OutputOf<S> = S extends MethodSpec<z.ZodType, infer O> ? O : never

/** A method's parameters as the renderer calls it: none when the schema accepts undefined. */
export type ArgsOf<S> = undefined extends InputOf<S> ? [arg?: InputOf<S>] : [arg: InputOf<S>]
