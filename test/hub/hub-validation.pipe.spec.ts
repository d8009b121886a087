import type { ArgumentMetadata, FactoryProvider } from '@nestjs/common';
import { IsString } from 'class-validator';
import type { SignalRModuleOptions } from 'nestjs-signalr';
import { describe, expect, it } from 'vitest';
import { HubValidationPipe, hubValidatorProvider } from '../../src/hub/hub-validation.pipe.js';

class Greeting {
  @IsString()
  text!: string;
}

async function pipeFor(options: SignalRModuleOptions): Promise<HubValidationPipe> {
  return new HubValidationPipe(await (hubValidatorProvider as FactoryProvider).useFactory(options));
}

const asArgument = (metatype: unknown, position: number): ArgumentMetadata =>
  ({ type: 'body', metatype, data: position }) as unknown as ArgumentMetadata;

describe('HubValidationPipe.passesThrough', () => {
  it("holds for each type it lets through: Nest's ValidationPipe returns such an argument as it came", async () => {
    const pipe = await pipeFor({});
    const samples: [unknown, unknown][] = [
      [String, 'text'],
      [Number, 2],
      [Boolean, true],
      [Array, [1, { a: 1 }]],
      [Object, { a: 1, nested: { b: 2 } }],
      [Buffer, Buffer.from('x')],
      [Date, '2020-01-01'],
      [undefined, { a: 1 }],
    ];
    for (const [type, value] of samples) {
      expect(pipe.passesThrough(type)).toBe(true);
      for (const position of [0, 1]) expect(await pipe.transform(value, asArgument(type, position))).toBe(value);
    }
  });

  it('lets no DTO through, nor any type when validation has an expectedType', async () => {
    expect((await pipeFor({})).passesThrough(Greeting)).toBe(false);
    const checksEveryArgument = await pipeFor({ validation: { expectedType: Greeting } });
    expect(checksEveryArgument.passesThrough(String)).toBe(false);
    expect(checksEveryArgument.passesThrough(undefined)).toBe(false);
  });

  it('lets everything through when validation is off', async () => {
    expect((await pipeFor({ validation: false })).passesThrough(Greeting)).toBe(true);
  });
});
