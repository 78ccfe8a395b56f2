/** `true` when A and B are assignable both ways: a compile-time check that two declarations of one shape agree. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
