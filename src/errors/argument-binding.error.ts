/** What ASP.NET Core calls the exception of an invocation that cannot be bound to its method. */
export class ArgumentBindingError extends Error {
  override readonly name = 'InvalidDataException';
}
