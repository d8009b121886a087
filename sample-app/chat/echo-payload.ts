import { IsString, Length } from 'class-validator';

export class EchoPayload {
  @IsString()
  @Length(1, 500)
  text!: string;
}
