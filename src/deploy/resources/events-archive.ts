/**
 * @module
 * `AWS::Events::Archive`: CreateArchive, UpdateArchive, DeleteArchive. `ArchiveName` defaults to
 * a generated name (48 characters at most); `EventPattern` may be an object or JSON text.
 * `Ref` is the archive name; attribute `Arn`. A new name or source replaces the archive (its
 * stored events go with the old one, as on AWS).
 */
import {
  CreateArchiveCommand,
  DeleteArchiveCommand,
  UpdateArchiveCommand,
} from '@aws-sdk/client-eventbridge'
import type { ProvisionContext, Provisioner, ResourceCreated } from '../model.js'
import { defined, int, jsonText, nameOf, replace, requiredStr, str } from './events-common.js'
import { changed, ignoreNotFound, type Props } from './resource-props.js'

const MAX_NAME = 48

function settings(ctx: ProvisionContext, props: Props) {
  return defined({
    Description: str(ctx, props, 'Description'),
    EventPattern: jsonText(ctx, props, 'EventPattern'),
    RetentionDays: int(ctx, props, 'RetentionDays'),
    KmsKeyIdentifier: str(ctx, props, 'KmsKeyIdentifier'),
  })
}

async function create(ctx: ProvisionContext, props: Props): Promise<ResourceCreated> {
  const name = nameOf(ctx, props, 'ArchiveName', MAX_NAME)
  const out = await ctx.clients.events.send(
    new CreateArchiveCommand({
      ArchiveName: name,
      EventSourceArn: requiredStr(ctx, props, 'SourceArn'),
      ...settings(ctx, props),
    }),
  )
  return { physicalId: name, attributes: { Arn: out.ArchiveArn ?? '' } }
}

async function remove(ctx: ProvisionContext, current: ResourceCreated): Promise<void> {
  await ignoreNotFound(
    ctx.clients.events.send(new DeleteArchiveCommand({ ArchiveName: current.physicalId })),
  )
}

async function update(
  ctx: ProvisionContext,
  current: ResourceCreated,
  before: Props,
  after: Props,
): Promise<ResourceCreated> {
  if (changed(before, after, ['ArchiveName', 'SourceArn'])) {
    // The same name cannot exist twice: the old archive goes first then.
    const name = str(ctx, after, 'ArchiveName')
    if (name === current.physicalId) {
      await remove(ctx, current)
      return create(ctx, after)
    }
    return replace(
      () => create(ctx, { ...after, ArchiveName: name ?? ctx.generatedName(MAX_NAME) }),
      () => remove(ctx, current),
    )
  }
  await ctx.clients.events.send(
    new UpdateArchiveCommand({ ArchiveName: current.physicalId, ...settings(ctx, after) }),
  )
  return current
}

export const archiveProvisioner: Provisioner = {
  type: 'AWS::Events::Archive',
  properties: [
    'ArchiveName',
    'SourceArn',
    'Description',
    'EventPattern',
    'RetentionDays',
    'KmsKeyIdentifier',
  ],
  create,
  update,
  delete: remove,
}
