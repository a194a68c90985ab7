import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NodeRegistry } from './node-registry.service';
import { ApiErrors, schemaRef } from './openapi';

const NODE_ID_PARAM = ApiParam({ name: 'id', description: 'A node id (NODE_ID), as GET /v1/nodes lists them.', schema: { type: 'string' }, example: 'edge-1' });

/** The fleet: every node heard from lately, its state and load; and draining a node. */
@ApiTags('Nodes')
@Controller('v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodeRegistry) {}

  @Get()
  @ApiOperation({ summary: 'Every node: live, draining, stale or gone', description: 'From the nodes\' heartbeats in Redis. A gone node stays listed for 5 minutes after its last heartbeat (or after it left), then is dropped.' })
  @ApiOkResponse({ schema: schemaRef('NodeList') })
  async list() {
    return { nodes: await this.nodes.fleet() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One node' })
  @NODE_ID_PARAM
  @ApiOkResponse({ schema: schemaRef('Node') })
  @ApiErrors({ 404: 'No such node listed.' })
  node(@Param('id') id: string) {
    return this.nodes.node(id);
  }

  @Post(':id/drain')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Drain a node',
    description: 'At its next heartbeat the node\'s trunk worker stops taking tasks (shown draining), finishes those in flight and exits 0 (shown gone, left: drained); its branch worker runs its queued subjobs and leaves too. Tasks keep going to the other nodes.',
  })
  @NODE_ID_PARAM
  @ApiAcceptedResponse({ schema: schemaRef('Node') })
  @ApiErrors({ 404: 'No such node listed.', 409: 'The node is gone already.' })
  drain(@Param('id') id: string) {
    return this.nodes.drain(id);
  }
}
