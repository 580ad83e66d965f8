import 'reflect-metadata';
import { Field, ID, ObjectType } from 'type-graphql';
import type { Role as DomainRole, Viewer as AuthViewer } from '../auth/viewer';
import { RoleEnum } from './enums';
import { DateTimeScalar } from './scalars';

@ObjectType({ description: 'The caller, as its access token says.' })
export class Viewer {
  @Field(() => ID) id!: string;
  @Field(() => RoleEnum) role!: DomainRole;
  @Field(() => ID, { nullable: true }) restaurantId!: string | null;
  @Field(() => String, { nullable: true }) email!: string | null;
  @Field(() => DateTimeScalar) tokenExpiresAt!: Date;

  static from(viewer: AuthViewer): Viewer {
    const { id, role, restaurantId, email } = viewer;
    return Object.assign(new Viewer(), { id, role, restaurantId, email, tokenExpiresAt: new Date(viewer.expiresAt * 1000) });
  }
}
