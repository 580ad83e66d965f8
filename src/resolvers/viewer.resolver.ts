import 'reflect-metadata';
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireViewer } from '../auth/guards';
import { Viewer } from '../schema/viewer.type';
import type { ApiContext } from './context';

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: 'Who the access token says the caller is (added to the contract; handy in GraphiQL).' })
  me(@Ctx() { identity }: ApiContext): Viewer {
    return Viewer.from(requireViewer(identity));
  }
}
