import { SetMetadata } from '@nestjs/common';
import { HUB_METHOD_METADATA, type HubMethodMetadata } from './hub-metadata.js';

/**
 * Optional on hub methods: renames one on the wire (`name`), declares that it streams its
 * result (`stream: true`; needed only for methods that return an Observable or AsyncIterable
 * without being `async *` generators), or hides a public method from clients (`exclude: true`).
 */
export const HubMethod = (metadata: HubMethodMetadata = {}): MethodDecorator =>
  SetMetadata(HUB_METHOD_METADATA, metadata);
