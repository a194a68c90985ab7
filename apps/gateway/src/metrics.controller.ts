import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { MetricsService } from './metrics.service';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

/** Prometheus metrics of the whole system (text exposition format) at `/metrics`. */
@ApiTags('Metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics', description: "The whole system's metrics (Triton's nv_inference_* names and Outlet's own), in the text exposition format." })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4.', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res() res: Response) {
    const { contentType, text } = await this.metrics.scrape();
    res.status(200).type(contentType).send(text);
  }
}
